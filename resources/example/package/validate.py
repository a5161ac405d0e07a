"""validate <in model> <out json>: loss and accuracy on the local train and test data."""

import json
import sys

from model import load_csv, load_model, loss_and_accuracy


def main(in_path: str, out_path: str) -> None:
    weights = load_model(in_path)
    train_loss, train_accuracy = loss_and_accuracy(weights, *load_csv("train.csv"))
    test_loss, test_accuracy = loss_and_accuracy(weights, *load_csv("test.csv"))
    metrics = {
        "training_loss": train_loss,
        "training_accuracy": train_accuracy,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(metrics, handle)
    print(f"test accuracy {test_accuracy:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
