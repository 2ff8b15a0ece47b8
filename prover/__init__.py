"""Command line and orchestration: proving campaigns, scripted rounds, pass@k evaluation,
resumable run state, reports and plots."""
