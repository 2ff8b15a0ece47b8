"""Stand-in REPL scripts for fault tests: each speaks the Lean REPL transport and misbehaves on cue
(garbage, megabytes of output, crashes, hangs), see fake_repl.py."""
