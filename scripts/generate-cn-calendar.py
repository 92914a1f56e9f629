#!/usr/bin/env python3
"""Writes calendars/cn.json, the shipped `CN` business calendar: mainland
China's public holidays and make-up workdays (调休) for the given years.

The dates come from the PyPI package `chinesecalendar` (module
`chinese_calendar`), which follows the State Council's yearly notices. The
script installs the pinned version into a throw-away virtual environment and
reruns itself there, so nothing else on the machine changes; the package and
its version are written into the data file. When the State Council publishes
a new year, raise PACKAGE_VERSION to a release that has it and run

    python3 scripts/generate-cn-calendar.py 2025 2026 2027

Nothing downloads at build or test time: the committed file is the data.
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile

PACKAGE = "chinesecalendar"
PACKAGE_VERSION = "1.11.0"
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "calendars", "cn.json")

# Office hours on a working day, the usual 09:00-18:00 with an hour for lunch;
# make-up workdays keep the same hours.
OFFICE_HOURS = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def in_venv_with_package():
    try:
        import chinese_calendar  # noqa: F401
    except ImportError:
        return False
    from importlib.metadata import version

    return version(PACKAGE) == PACKAGE_VERSION


def rerun_in_venv(years):
    with tempfile.TemporaryDirectory(prefix="opsledger-cn-calendar-") as venv:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        pip = [python, "-m", "pip", "install", "--quiet", f"{PACKAGE}=={PACKAGE_VERSION}"]
        subprocess.run(pip, check=True)
        subprocess.run([python, os.path.abspath(__file__), *years], check=True)


def generate(years):
    import chinese_calendar

    years = sorted(int(y) for y in years)
    first, last = datetime.date(years[0], 1, 1), datetime.date(years[-1], 12, 31)

    def within(day):
        return first <= day <= last and day.year in years

    holidays = [
        {"date": day.isoformat(), "name": name}
        for day, name in sorted(chinese_calendar.holidays.items())
        if within(day)
    ]
    workdays = [
        {"date": day.isoformat(), "name": name, "hours": OFFICE_HOURS}
        for day, name in sorted(chinese_calendar.workdays.items())
        if within(day)
    ]
    for year in years:
        if not any(h["date"].startswith(str(year)) for h in holidays):
            sys.exit(f"{PACKAGE} {PACKAGE_VERSION} has no holidays for {year}; pick a newer release")
    # The body of POST /v1/business-calendars, as the server loads it.
    calendar = {
        "code": "CN",
        "definition": {
            "name": "Mainland China office hours and public holidays",
            "time_zone": "Asia/Shanghai",
            "weekly_hours": {day: (OFFICE_HOURS if i < 5 else []) for i, day in enumerate(WEEKDAYS)},
            "holidays": holidays,
            "workdays": workdays,
            "covers_until": last.isoformat(),
            "source": {
                "registry": "PyPI",
                "package": PACKAGE,
                "version": PACKAGE_VERSION,
                "generated_by": "scripts/generate-cn-calendar.py " + " ".join(str(y) for y in years),
            },
        },
    }
    with open(OUTPUT, "w", encoding="utf-8") as out:
        json.dump(calendar, out, ensure_ascii=False, indent=2)
        out.write("\n")
    print(f"wrote {os.path.normpath(OUTPUT)}: {len(holidays)} holidays, {len(workdays)} make-up workdays")


if __name__ == "__main__":
    years = sys.argv[1:]
    if not years:
        sys.exit(__doc__)
    if in_venv_with_package():
        generate(years)
    else:
        rerun_in_venv(years)
