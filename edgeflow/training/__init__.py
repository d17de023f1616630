"""Training: recipes from the cards, the loop, distillation losses, multi-process and QAT helpers."""
