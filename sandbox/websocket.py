"""The few RFC 6455 pieces the Slack stand-in's Socket Mode end needs: the accept key and frames, both ways."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import BinaryIO

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455, 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()).decode("ascii")


def _xor(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame; servers send unmasked frames, clients pass a 4-byte mask."""
    bit, n = (0x80 if mask else 0), len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += struct.pack("!BH", bit | 126, n)
    else:
        head += struct.pack("!BQ", bit | 127, n)
    return head + mask + _xor(payload, mask) if mask else head + payload


def _exactly(rfile: BinaryIO, n: int) -> bytes:
    data = rfile.read(n) if n else b""
    if len(data) < n:
        raise EOFError("the peer closed the connection")
    return data


def read_frame(rfile: BinaryIO) -> tuple[bool, int, bool, bytes]:
    """(fin, opcode, masked, payload unmasked); EOFError when the stream ends."""
    b1, b2 = _exactly(rfile, 2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _exactly(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _exactly(rfile, 8))[0]
    mask = _exactly(rfile, 4) if b2 & 0x80 else b""
    data = _exactly(rfile, n)
    return bool(b1 & 0x80), b1 & 0x0F, bool(mask), _xor(data, mask) if mask else data
