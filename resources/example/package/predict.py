"""predict <in model> <out json>: a summary of predictions on the local test data
(counts only: individual rows never leave this computer)."""

import json
import sys

from model import load_csv, load_model, probabilities


def main(in_path: str, out_path: str) -> None:
    features, _labels = load_csv("test.csv")
    p = probabilities(load_model(in_path), features)
    summary = {"num_examples": len(p), "predicted_positive": int((p >= 0.5).sum())}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
