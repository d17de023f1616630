"""The model zoo: registry, cards, building and loading nets, checkpoints, stats, generated READMEs."""
