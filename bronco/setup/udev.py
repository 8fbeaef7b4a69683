"""Stable device names: one udev rule per adapter setup found, from its USB serial number (or
the USB port it is plugged into when it has none), so no one looks up vendor ids by hand."""

from __future__ import annotations

from bronco.setup.probe import FoundDevice

RULES_FILE = "61-bronco-adapters.rules"


def stable_name(device_id: str) -> str:
    return f"bronco-{device_id.lower().replace('_', '-')}"


def rule(device: FoundDevice, device_id: str) -> str | None:
    """The udev rule naming `device`'s adapter /dev/<stable_name>; None without USB identity."""
    usb = device.usb
    if usb is None:
        return None
    match = ['SUBSYSTEM=="tty"', f'ATTRS{{idVendor}}=="{usb.vid:04x}"',
             f'ATTRS{{idProduct}}=="{usb.pid:04x}"']
    if usb.serial_number:
        match.append(f'ATTRS{{serial}}=="{usb.serial_number}"')
    elif usb.location:
        match.append(f'KERNELS=="{usb.location.split(":")[0]}"')
    else:
        return None
    return ", ".join([*match, f'SYMLINK+="{stable_name(device_id)}"', 'GROUP="dialout"', 'MODE="0660"'])


def rules_text(rules: list[tuple[str, str]]) -> str:
    """The rules file: (what it is, rule) pairs."""
    lines = ["# Written by `bronco setup`: one stable name per serial adapter it found.", ""]
    for said, text in rules:
        lines += [f"# {said}", text, ""]
    return "\n".join(lines)
