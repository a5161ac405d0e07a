"""Metric keys as words ("test_loss" -> "Test loss"), which ones are counts, and what "better" means.

Packages name metrics freely; these rules cover the common spellings. The raw key always stays
available (tooltips, CSV) for the person who wrote the package.
"""

from __future__ import annotations

import re

_PREFIXES = {
    "train": "Training",
    "training": "Training",
    "test": "Test",
    "val": "Validation",
    "valid": "Validation",
    "validation": "Validation",
    "eval": "Evaluation",
}
_WORDS = {
    "acc": "accuracy",
    "accuracy": "accuracy",
    "loss": "loss",
    "auc": "AUC",
    "roc": "ROC",
    "f1": "F1 score",
    "mse": "mean squared error",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "lr": "learning rate",
    "num": "number of",
    "examples": "examples",
    "epochs": "epochs",
    "iou": "IoU",
    "dice": "Dice score",
}
#: Counts and settings: true, but not about learning. Hidden by default, one click away.
_COUNT_PATTERN = re.compile(
    r"^(num_|n_)|(^|_)(count|epochs?|lr|learning_rate|batch_size|steps?|samples|examples)$", re.I
)
_LOWER_IS_BETTER = re.compile(r"(loss|error|mse|mae|rmse|perplexity)", re.I)
_HIGHER_IS_BETTER = re.compile(r"(acc|accuracy|auc|f1|precision|recall|iou|dice|score|r2)", re.I)


def metric_label(key: str) -> str:
    """Words for a metric key: "test_loss" -> "Test loss", "train_acc" -> "Training accuracy"."""
    parts = [p for p in re.split(r"[_\-\s.]+", key) if p]
    if not parts:
        return key
    words: list[str] = []
    if parts[0].lower() in _PREFIXES and len(parts) > 1:
        words.append(_PREFIXES[parts[0].lower()])
        parts = parts[1:]
    words += [_WORDS.get(p.lower(), p) for p in parts]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def is_count(key: str) -> bool:
    """Counts and settings (``num_examples``, ``epochs``, ``lr``): hidden from plots by default."""
    return bool(_COUNT_PATTERN.search(key))


def lower_is_better(key: str) -> bool | None:
    """True for losses and errors, False for accuracies and scores, None when unknown."""
    if _LOWER_IS_BETTER.search(key):
        return True
    if _HIGHER_IS_BETTER.search(key):
        return False
    return None


def what_better_means(key: str) -> str:
    lower = lower_is_better(key)
    if lower is None:
        return ""
    return "lower is better" if lower else "higher is better"
