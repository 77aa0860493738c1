#!/usr/bin/env python3
"""Deterministic train/test split for measurements.csv.

split = "test" if the first hex digit of sha1(id) is 0-4, else "train" (about 31 % test).

Usage:
  python3 split.py ID [ID ...]           print "ID split" for each id
  python3 split.py --check FILE.csv      exit 1 if any row's split column disagrees (or ids repeat)
  python3 split.py --fix FILE.csv        rewrite the split column in place
"""
import csv
import hashlib
import sys


def split_of(row_id: str) -> str:
    digit = hashlib.sha1(row_id.encode("utf-8")).hexdigest()[0]
    return "test" if digit in "01234" else "train"


def check(path: str) -> int:
    bad = 0
    seen = set()
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            rid = row["id"]
            if rid in seen:
                print(f"line {n}: duplicate id {rid}", file=sys.stderr)
                bad += 1
            seen.add(rid)
            want = split_of(rid)
            if row["split"] != want:
                print(f"line {n}: id {rid}: split is {row['split']!r}, expected {want!r}", file=sys.stderr)
                bad += 1
    if bad:
        print(f"{bad} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: {len(seen)} rows, split column OK")
    return 0


def fix(path: str) -> int:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)
    for row in rows:
        row["split"] = split_of(row["id"])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "--check":
        return max(check(p) for p in argv[1:])
    if len(argv) >= 2 and argv[0] == "--fix":
        return max(fix(p) for p in argv[1:])
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    for rid in argv:
        print(rid, split_of(rid))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
