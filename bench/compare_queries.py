#!/usr/bin/env python3
"""Compare the queries of two profiled runs of bench_dunning.py.

Both files come from ``bench_dunning.py --profile-queries --json FILE``. For each
phase (first attempt of each), prints the totals and the normalised statements
whose count differs between the two runs: the ones that scale with the data.

    python3 bench/compare_queries.py /tmp/bench5k.json /tmp/bench20k.json
"""

import argparse
import json


def first_runs(path):
    with open(path) as handle:
        results = json.load(handle)
    runs = {}
    for run in results["runs"]:
        runs.setdefault(run["phase"], run)
    return results, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("first", help="JSON results of the smaller run")
    parser.add_argument("second", help="JSON results of the larger run")
    parser.add_argument(
        "--width", type=int, default=150, help="characters of SQL shown (150)"
    )
    args = parser.parse_args()
    first, first_runs_ = first_runs(args.first)
    second, second_runs = first_runs(args.second)
    for phase in first_runs_.keys() & second_runs.keys():
        one, two = first_runs_[phase], second_runs[phase]
        print(
            f"== {phase}: {one['queries']} queries ({first['db']}) vs "
            f"{two['queries']} ({second['db']})"
        )
        groups_one = one.get("query_groups")
        groups_two = two.get("query_groups")
        if groups_one is None or groups_two is None:
            print("   (run both with --profile-queries to compare statements)")
            continue
        differing = sorted(
            (
                (groups_one.get(sql, 0), groups_two.get(sql, 0), sql)
                for sql in groups_one.keys() | groups_two.keys()
                if groups_one.get(sql, 0) != groups_two.get(sql, 0)
            ),
            key=lambda row: (row[0] - row[1], row[2]),
        )
        if not differing:
            print("   same statements, same counts")
        for count_one, count_two, sql in differing:
            print(f"   {count_one:>6} -> {count_two:>6}  {sql[: args.width]}")


if __name__ == "__main__":
    main()
