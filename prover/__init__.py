"""Command line and orchestration: proving campaigns, their recipes (expert iteration,
re-synthesis, GRPO), resumable run state, reports and plots."""
