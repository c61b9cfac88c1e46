"""Operations on a whole installation: verifying the chains, checkpoints, backup and
restore. Used by the command line and by the worker's scheduler."""
