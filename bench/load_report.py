"""The load bench's tables (bench/load.py) for docs/benchmarks.md: Capacity and Soak."""

from __future__ import annotations

from typing import Any

TARGET_ROOMS = 2


def _f(value: float | None, fmt: str = ".2f", unit: str = "") -> str:
    return "n/a" if value is None else f"{format(value, fmt)}{unit}"


def _api(api: dict[str, Any] | None) -> str:
    if not api:
        return "n/a"
    return f"busy {_f(api.get('cpu_busy'))}, lag {_f(api.get('speech_lag_s'), '.1f', ' s')}, {api.get('level', '?')}"


def capacity_markdown(r: dict[str, Any]) -> str:
    """Each ramp step in a row, then rooms sustained, the cost per participant and what broke first."""
    lines = [
        "| Two-person rooms | Listener fps, min | Trigger-to-ad p50 / p95 | Ads / phrases | Frame latency p50 "
        "| Relay CPU (cores) | Relay RSS / PSS | Relay's /api/load (max) | Clients' CPU | Held |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in r.get("steps", []):
        lines.append(
            f"| {s['rooms']} ({s['participants']} people) | {_f(s['listener_fps_min'], '.1f')} "
            f"| {_f(s['trigger_to_ad_p50_s'])} / {_f(s['trigger_to_ad_p95_s'], '.2f', ' s')} "
            f"| {s['ads_seen']} / {s['phrases']} | {_f(s['frame_latency_p50_s'], '.3f', ' s')} "
            f"| {s['relay_cpu_cores']:.2f} | {s['relay_rss_mb']:.0f} / {s['relay_pss_mb']:.0f} MB "
            f"| {_api(s.get('load_api'))} | {s['clients_cpu_cores']:.2f} "
            f"| {'yes' if not s['failures'] else 'no: ' + '; '.join(s['failures'])} |"
        )
    held = r.get("rooms_sustained")
    pp = r.get("per_participant") or {}
    idle = r.get("idle") or {}
    after = r.get("after_leave") or {}
    broke = r.get("breaks_first") or f"nothing up to {r.get('max_rooms_tried')} rooms (the most tried)"
    lines += [
        "",
        "| | Value | Target | |",
        "|---|---|---|---|",
        f"| Two-person rooms sustained, AI on (`rooms_sustained`) | {held} | ≥ {TARGET_ROOMS} "
        f"| {'pass' if held is not None and held >= TARGET_ROOMS else 'FAIL'} |",
        f"| Relay CPU per participant (at {pp.get('at_rooms', '?')} room(s)) "
        f"| {_f(pp.get('cpu_cores'), '.2f', ' cores')} | | |",
        f"| Relay memory per participant, above the idle relay's {_f(idle.get('rss_mb'), '.0f', ' MB')} "
        f"| {_f(pp.get('rss_mb'), '.0f', ' MB')} | | |",
        f"| What breaks first as rooms are added | {broke} | | |",
        f"| After everyone left: relay threads / fds (idle before: {idle.get('threads')} / {idle.get('fds')}) "
        f"| {after.get('threads')} / {after.get('fds')}, speech workers {_left(after)} | | |",
        "",
        _run_line(r.get("date"), r.get("machine"), f"bench.load{_guard_arg(r)}"),
    ]
    return "\n".join(lines)


def _left(after: dict[str, Any]) -> str:
    api = after.get("speech_workers")
    held = (after.get("speech_workers_in_memory") or 0) + (after.get("face_workers_in_memory") or 0)
    if api is None:
        return "n/a (no /api/load)"
    return f"{api} (/api/load" + (f"; {held} closed workers not yet freed)" if held else "; none left in memory)")


def soak_markdown(s: dict[str, Any]) -> str:
    """The soak's first and last window side by side, RSS's slope, and what was left after everyone left."""
    a, b, w = s["first"], s["last"], s["window_minutes"]
    tol = s["tolerances"]
    rows = [
        ("Relay RSS, median", _f(a["rss_mb"], ".0f", " MB"), _f(b["rss_mb"], ".0f", " MB"), tol["rss_mb"]),
        ("Relay PSS, median", _f(a["pss_mb"], ".0f", " MB"), _f(b["pss_mb"], ".0f", " MB"), ""),
        ("Relay threads, median", _f(a["threads"], ".0f"), _f(b["threads"], ".0f"), tol["threads"]),
        ("Relay open fds, median", _f(a["fds"], ".0f"), _f(b["fds"], ".0f"), tol["fds"]),
        ("Relay CPU", _f(a["relay_cpu_cores"], ".2f", " cores"), _f(b["relay_cpu_cores"], ".2f", " cores"), ""),
        (
            "Frame latency p50",
            _f(a["frame_latency_p50_s"], ".3f", " s"),
            _f(b["frame_latency_p50_s"], ".3f", " s"),
            tol["frame_latency_p50_s"] + " s",
        ),
        (
            "Trigger-to-ad p50 / p95",
            f"{_f(a['trigger_to_ad_p50_s'])} / {_f(a['trigger_to_ad_p95_s'], '.2f', ' s')}",
            f"{_f(b['trigger_to_ad_p50_s'])} / {_f(b['trigger_to_ad_p95_s'], '.2f', ' s')}",
            tol["trigger_to_ad_p50_s"] + " s (p50)",
        ),
        ("Ads / phrases", f"{a['ads_seen']} / {a['phrases']}", f"{b['ads_seen']} / {b['phrases']}", ""),
        ("Listener fps, min", _f(a["listener_fps_min"], ".1f"), _f(b["listener_fps_min"], ".1f"), ""),
    ]
    after, refused = s["after_leave"], s.get("refused") or {}
    lines = [
        f"| {s['rooms']} two-person rooms, {s['minutes']:g} min | First {w:g} min | Last {w:g} min | Tolerance |",
        "|---|---|---|---|",
        *(f"| {name} | {x} | {y} | {t} |" for name, x, y, t in rows),
        "",
        f"- RSS slope after the first {w:g} min: {_f(s['rss_slope_mb_per_h'], '.1f', ' MB/h')}"
        f" (at most {tol.get('rss_slope_mb_per_h', '?')}).",
        f"- After everyone left ({after.get('settle_s', '?')} s): relay threads {after['threads']} "
        f"(idle before the call: {after['idle_threads']}), open fds {after['fds']} (idle: {after['idle_fds']}), "
        f"speech workers {_left(after)}.",
        f"- Joins refused: {'; '.join(f'{k} ({v})' for k, v in refused.items()) if refused else 'none'}"
        f" (rooms join {s.get('arrival_gap_s', '?')} s apart).",
        f"- Verdict: {'flat' if s['flat'] else 'NOT flat: ' + '; '.join(s['failures'])}.",
        "",
        _run_line(s.get("date"), s.get("machine"), f"bench.load --minutes {s['minutes']:g}{_guard_arg(s)}"),
    ]
    return "\n".join(lines)


def _guard_arg(s: dict[str, Any]) -> str:
    full = s.get("full_at_cpu")
    return "" if full is None else f" --full-at-cpu {full:g}"


def _run_line(date: str | None, machine: dict[str, Any] | None, command: str) -> str:
    m = machine or {}
    return (
        f"_Relay at normal priority; each room's two scripted aiortc participants in a process of their own at "
        f"nice 19 (threads and autogroup), standing in for other machines; one {m.get('cpu', '?')} "
        f"({m.get('cores', '?')} cores), {(date or '?')[:10]}. `python -m {command}`._"
    )
