"""Runs once before the first task: check that the data is where the package expects it."""

from model import data_folder, load_csv

for name in ("train.csv", "test.csv"):
    features, labels = load_csv(name)
    print(f"{name}: {len(labels)} rows, {features.shape[1]} feature columns, in {data_folder()}")
