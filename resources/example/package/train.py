"""train <in model> <out model>: a few steps of gradient descent on the local train.csv."""

import json
import sys

from model import load_csv, load_model, loss_and_accuracy, probabilities, report_metrics, save_model


def main(in_path: str, out_path: str) -> None:
    # Round settings from the server (FEDn writes them next to the input model; {} if none).
    try:
        with open(in_path + "-metadata", encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError):
        settings = {}
    learning_rate = float(settings.get("learning_rate", 0.5))
    epochs = int(settings.get("epochs", 10))

    features, labels = load_csv("train.csv")
    w, b = load_model(in_path)
    for epoch in range(1, epochs + 1):
        p = probabilities([w, b], features)
        error = p - labels
        w = w - learning_rate * features.T @ error / len(labels)
        b = b - learning_rate * error.mean(keepdims=True)
        loss, accuracy = loss_and_accuracy([w, b], features, labels)
        report_metrics(epoch, train_loss=loss, train_accuracy=accuracy)
    print(f"Trained {epochs} epochs on {len(labels)} examples; loss {loss:.4f}")

    save_model([w, b], out_path)
    metadata = {"num_examples": len(labels), "epochs": epochs, "learning_rate": learning_rate}
    with open(out_path + "-metadata", "w", encoding="utf-8") as handle:
        json.dump(metadata, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
