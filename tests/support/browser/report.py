"""What the browser test leaves for people: page screenshots, and on failure each
page's events, console and RTP stats, and the tail of the server's log."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser.chromium import Participant


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(text.splitlines()[-lines:])


def dump(people: list[Participant], tmp_path: Path) -> None:
    """On failure: screenshots, every page's events and console."""
    for p in people:
        try:
            shot = tmp_path / f"{p.name}.png"
            p.screenshot(shot)
            print(f"screenshot of {p.name}'s page: {shot}")
        except Exception as e:
            print(f"no screenshot of {p.name}'s page: {e!r}")
        try:
            events = p.events()
            print(f"--- window.callbridge.events on {p.name}'s page ({len(events)}) ---")
            for event in events:
                print(f"  {event}")
        except Exception as e:
            print(f"cannot read {p.name}'s events: {e!r}")
        print(f"--- {p.name}'s console, HTTP errors and signalling (last 60) ---")
        for line in p.console[-60:]:
            print(f"  {line}")
        try:
            print(f"--- {p.name}'s peer connections and RTP stats ---")
            for row in p.rtp_stats():
                print(f"  {row}")
        except Exception as e:
            print(f"cannot read {p.name}'s RTP stats: {e!r}")


def save_pages(tmp_path: Path, when: str, *people: Participant) -> None:
    """Keep what each page looked like (for people to look at; nothing is asserted on them)."""
    for p in people:
        try:
            p.screenshot(tmp_path / f"page_{p.name}_{when}.png")
        except Exception as e:
            print(f"no screenshot of {p.name}'s page {when} the ad: {e!r}")
