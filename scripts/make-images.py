#!/usr/bin/env python3
"""Draws the demo site's pictures with the Python standard library only (no PIL, no numpy).

    python3 scripts/make-images.py [OUTDIR]        (default: www/images next to this script)

Writes
  models.png  640x360  six boxes, one per concurrency model, drawn with a tiny vector canvas
                       and a 5x7 bitmap font; encoded by write_png() (zlib + struct).
  sunset.jpg  480x272  a synthetic landscape "photo"; encoded by write_jpeg(), a minimal
                       baseline JPEG encoder (8x8 DCT, ITU T.81 Annex K tables, 4:4:4).

Deterministic: no timestamps, no randomness beyond a fixed-seed LCG, so every run writes the
same bytes (for a given zlib).
"""

import math
import os
import struct
import sys
import zlib

# --------------------------------------------------------------------------------------------
# PNG

def write_png(path, width, height, pixels):
    """pixels: bytearray of width*height*3 RGB bytes, rows top to bottom."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stride = width * 3
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type 0 (None) for each scanline
        raw += pixels[y * stride:(y + 1) * stride]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)
    return len(data)

# --------------------------------------------------------------------------------------------
# Baseline JPEG (JFIF, sequential DCT, Huffman, 8-bit, three components, no subsampling)

ZIGZAG = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]

# Annex K.1 quantisation tables, natural (row-major) order.
Q_LUMA = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]
Q_CHROMA = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
] + [99] * 32

# Annex K.3 Huffman tables: (number of codes of each length 1..16, symbols).
DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], list(range(12)))
AC_LUMA = ([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D], bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
    "535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7"
    "c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"))
AC_CHROMA = ([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77], bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0"
    "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a82838485868788"
    "898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5"
    "c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"))
AC_SYMBOLS = sorted([0x00, 0xF0] + [run << 4 | size for run in range(16) for size in range(1, 11)])
for _bits, _symbols in (AC_LUMA, AC_CHROMA):
    assert sum(_bits) == len(_symbols) == 162 and sorted(_symbols) == AC_SYMBOLS


def huffman_codes(table):
    """Canonical codes (Annex C): symbol -> (code, length)."""
    bits, symbols = table
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[symbols[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def scaled_quant(table, quality):
    """IJG quality scaling (1..100)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (q * scale + 50) // 100)) for q in table]


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, code, length):
        self.acc = (self.acc << length) | code
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing
        self.acc &= (1 << self.n) - 1

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1 bits


# C[u][x] = c(u)/2 * cos((2x+1) u pi / 16): the 1-D DCT-II matrix, applied to rows then columns.
DCT = [[(math.sqrt(0.5) if u == 0 else 1.0) * 0.5 * math.cos((2 * x + 1) * u * math.pi / 16)
        for x in range(8)] for u in range(8)]


def fdct(block):
    """64 level-shifted samples (row-major) -> 64 DCT coefficients (row-major)."""
    tmp = [0.0] * 64
    for y in range(8):
        row = block[y * 8:y * 8 + 8]
        for u in range(8):
            c = DCT[u]
            tmp[y * 8 + u] = sum(c[x] * row[x] for x in range(8))
    out = [0.0] * 64
    for u in range(8):
        col = [tmp[y * 8 + u] for y in range(8)]
        for v in range(8):
            c = DCT[v]
            out[v * 8 + u] = sum(c[y] * col[y] for y in range(8))
    return out


def bit_size(value):
    return abs(value).bit_length()


def encode_block(writer, coeffs, quant, prev_dc, dc_codes, ac_codes):
    q = [int(round(coeffs[i] / quant[i])) for i in range(64)]
    zz = [q[i] for i in ZIGZAG]
    diff = zz[0] - prev_dc
    size = bit_size(diff)
    writer.put(*dc_codes[size])
    if size:
        writer.put(diff if diff > 0 else diff + (1 << size) - 1, size)
    run = 0
    last = max((i for i in range(1, 64) if zz[i]), default=0)
    for i in range(1, last + 1):
        value = zz[i]
        if value == 0:
            run += 1
            continue
        while run > 15:
            writer.put(*ac_codes[0xF0])  # ZRL: sixteen zeros
            run -= 16
        size = bit_size(value)
        writer.put(*ac_codes[run << 4 | size])
        writer.put(value if value > 0 else value + (1 << size) - 1, size)
        run = 0
    if last < 63:
        writer.put(*ac_codes[0x00])  # EOB
    return zz[0]


def write_jpeg(path, width, height, pixels, quality=85):
    """pixels: bytearray of width*height*3 RGB bytes. Edges are replicated to whole 8x8 blocks."""
    qy, qc = scaled_quant(Q_LUMA, quality), scaled_quant(Q_CHROMA, quality)
    planes = [[0.0] * (width * height) for _ in range(3)]
    for i in range(width * height):
        r, g, b = pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]
        planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b - 128
        planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b
        planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b

    tables = [(qy, huffman_codes(DC_LUMA), huffman_codes(AC_LUMA)),
              (qc, huffman_codes(DC_CHROMA), huffman_codes(AC_CHROMA)),
              (qc, huffman_codes(DC_CHROMA), huffman_codes(AC_CHROMA))]
    writer = BitWriter()
    prev = [0, 0, 0]
    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            for c in range(3):  # interleaved MCU: one Y, one Cb, one Cr block
                plane = planes[c]
                block = [plane[min(by + y, height - 1) * width + min(bx + x, width - 1)]
                         for y in range(8) for x in range(8)]
                quant, dc_codes, ac_codes = tables[c]
                prev[c] = encode_block(writer, fdct(block), quant, prev[c], dc_codes, ac_codes)
    writer.flush()

    def segment(marker, payload):
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    def dht(cls_id, table):
        bits, symbols = table
        return bytes([cls_id]) + bytes(bits) + bytes(symbols)

    out = bytearray(b"\xff\xd8")  # SOI
    out += segment(0xE0, b"JFIF\0" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0))
    out += segment(0xDB, bytes([0]) + bytes(qy[i] for i in ZIGZAG) +
                   bytes([1]) + bytes(qc[i] for i in ZIGZAG))
    out += segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) +
                   bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]))
    out += segment(0xC4, dht(0x00, DC_LUMA) + dht(0x10, AC_LUMA) +
                   dht(0x01, DC_CHROMA) + dht(0x11, AC_CHROMA))
    out += segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]))
    out += writer.out
    out += b"\xff\xd9"  # EOI
    with open(path, "wb") as f:
        f.write(out)
    return len(out)

# --------------------------------------------------------------------------------------------
# A tiny anti-aliased canvas: shapes are signed-distance functions, coverage = 0.5 - distance.

class Canvas:
    def __init__(self, width, height, background):
        self.width, self.height = width, height
        self.px = bytearray(bytes(background) * (width * height))

    def blend(self, x, y, colour, alpha):
        if alpha <= 0 or not (0 <= x < self.width and 0 <= y < self.height):
            return
        i = 3 * (y * self.width + x)
        if alpha >= 1:
            self.px[i:i + 3] = bytes(colour)
            return
        for k in range(3):
            self.px[i + k] = int(self.px[i + k] + (colour[k] - self.px[i + k]) * alpha + 0.5)

    def shape(self, x0, y0, x1, y1, distance, colour):
        for y in range(max(0, int(y0) - 1), min(self.height, int(y1) + 2)):
            for x in range(max(0, int(x0) - 1), min(self.width, int(x1) + 2)):
                self.blend(x, y, colour, min(1.0, 0.5 - distance(x + 0.5, y + 0.5)))

    def rect(self, x, y, w, h, colour, radius=0):
        cx, cy, hw, hh = x + w / 2, y + h / 2, w / 2 - radius, h / 2 - radius

        def d(px, py):
            qx, qy = abs(px - cx) - hw, abs(py - cy) - hh
            outside = math.hypot(max(qx, 0), max(qy, 0))
            return outside + min(max(qx, qy), 0) - radius
        self.shape(x, y, x + w, y + h, d, colour)

    def circle(self, cx, cy, r, colour):
        self.shape(cx - r, cy - r, cx + r, cy + r,
                   lambda px, py: math.hypot(px - cx, py - cy) - r, colour)

    def ring(self, cx, cy, r, thickness, colour):
        R = r + thickness
        self.shape(cx - R, cy - R, cx + R, cy + R,
                   lambda px, py: abs(math.hypot(px - cx, py - cy) - r) - thickness / 2, colour)

    def line(self, x0, y0, x1, y1, thickness, colour):
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy

        def d(px, py):
            t = max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / length2))
            return math.hypot(px - x0 - t * dx, py - y0 - t * dy) - thickness / 2
        pad = thickness
        self.shape(min(x0, x1) - pad, min(y0, y1) - pad, max(x0, x1) + pad, max(y0, y1) + pad,
                   d, colour)

    def arrow(self, x0, y, x1, colour):
        self.line(x0, y, x1 - 2, y, 2, colour)
        self.line(x1 - 6, y - 4, x1, y, 2, colour)
        self.line(x1 - 6, y + 4, x1, y, 2, colour)

    def text(self, x, y, string, colour, scale=2):
        for ch in string.upper():
            glyph = FONT.get(ch, FONT["?"])
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits >> (4 - col) & 1:
                        for sy in range(scale):
                            for sx in range(scale):
                                self.blend(x + col * scale + sx, y + row * scale + sy, colour, 1)
            x += 6 * scale

    @staticmethod
    def text_width(string, scale=2):
        return len(string) * 6 * scale - scale


# 5x7 bitmap font: each glyph is seven rows of five bits.
FONT = {
    " ": [0, 0, 0, 0, 0, 0, 0],
    "-": [0, 0, 0, 0b11111, 0, 0, 0],
    ",": [0, 0, 0, 0, 0, 0b01100, 0b00100],
    ".": [0, 0, 0, 0, 0, 0b01100, 0b01100],
    ":": [0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0],
    "(": [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
    ")": [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
    "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100],
    "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
    "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
    "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
    "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
    "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
    "A": [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
    "B": [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
    "C": [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
    "D": [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
    "E": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
    "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
    "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
    "H": [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
    "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
    "K": [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
    "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
    "M": [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
    "N": [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
    "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
    "P": [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
    "Q": [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
    "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
    "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
    "T": [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
    "U": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
    "V": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
    "W": [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
    "X": [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
    "Y": [0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100],
}

# --------------------------------------------------------------------------------------------
# The pictures

# One colour per model; www/index.html uses the same ones.
MODELS = [
    ("single", (0x64, 0x74, 0x8B)),
    ("thread", (0x25, 0x63, 0xEB)),
    ("process", (0x7C, 0x3A, 0xED)),
    ("thread-pool", (0x05, 0x96, 0x69)),
    ("process-pool", (0xD9, 0x77, 0x06)),
    ("async", (0xDB, 0x27, 0x77)),
]
WHITE, INK, BG = (255, 255, 255), (0x1E, 0x29, 0x3B), (0xF8, 0xFA, 0xFC)


def lighter(colour, amount):
    return tuple(int(c + (255 - c) * amount) for c in colour)


def draw_models_png(path):
    W, H = 640, 360
    cv = Canvas(W, H, BG)
    title = "ONE REQUEST, SIX WAYS TO SERVE IT"
    cv.text((W - Canvas.text_width(title)) // 2, 14, title, INK)
    bw, bh, gap, top = 196, 150, 14, 42
    left = (W - 3 * bw - 2 * gap) // 2
    for n, (name, colour) in enumerate(MODELS):
        x, y = left + (n % 3) * (bw + gap), top + (n // 3) * (bh + gap)
        cv.rect(x + 2, y + 3, bw, bh, (0xE2, 0xE8, 0xF0), radius=12)  # shadow
        cv.rect(x, y, bw, bh, colour, radius=12)
        cv.rect(x + 8, y + 34, bw - 16, bh - 42, lighter(colour, 0.88), radius=8)
        cv.text(x + (bw - Canvas.text_width(name)) // 2, y + 11, name, WHITE)
        DRAWINGS[name](cv, x + 8, y + 34, bw - 16, bh - 42, colour)
    return write_png(path, W, H, cv.px)


def conn(cv, x, y, colour):
    cv.circle(x, y, 5, colour)


def worker(cv, x, y, w, h, colour, thick=False):
    if thick:
        cv.rect(x - 2, y - 2, w + 4, h + 4, colour, radius=6)
        cv.rect(x + 1, y + 1, w - 2, h - 2, WHITE, radius=4)
    else:
        cv.rect(x, y, w, h, colour, radius=4)
        cv.rect(x + 2, y + 2, w - 4, h - 4, WHITE, radius=3)


def draw_single(cv, x, y, w, h, c):
    for i in range(4):  # waiting clients
        conn(cv, x + 18 + i * 16, y + h // 2, lighter(c, 0.45))
    cv.arrow(x + 80, y + h // 2, x + 104, c)
    worker(cv, x + 112, y + h // 2 - 22, 52, 44, c)
    conn(cv, x + 138, y + h // 2, c)


def draw_thread(cv, x, y, w, h, c):
    conn(cv, x + 16, y + h // 2, c)
    for i in range(4):
        ty = y + 10 + i * 24
        cv.line(x + 22, y + h // 2, x + 60, ty + 8, 2, lighter(c, 0.4))
        worker(cv, x + 62, ty, 96 - i * 10, 16, c)
        conn(cv, x + 72, ty + 8, c)


def draw_process(cv, x, y, w, h, c):
    conn(cv, x + 16, y + h // 2, c)
    for i in range(3):
        ty = y + 10 + i * 30
        cv.line(x + 22, y + h // 2, x + 58, ty + 11, 2, lighter(c, 0.4))
        worker(cv, x + 62, ty, 100, 22, c, thick=True)
        conn(cv, x + 76, ty + 11, c)
        cv.text(x + 92, ty + 5, "FORK", c, scale=2)


def draw_thread_pool(cv, x, y, w, h, c):
    cv.rect(x + 10, y + h // 2 - 14, 56, 28, c, radius=4)  # the queue
    for i in range(3):
        conn(cv, x + 22 + i * 16, y + h // 2, WHITE)
    for i in range(4):
        ty = y + 8 + i * 23
        cv.line(x + 68, y + h // 2, x + 100, ty + 9, 2, lighter(c, 0.4))
        worker(cv, x + 104, ty, 64, 18, c)
        conn(cv, x + 116, ty + 9, c)


def draw_process_pool(cv, x, y, w, h, c):
    cv.rect(x + 12, y + 10, 14, h - 20, c, radius=4)  # the shared listening socket
    for i in range(4):
        ty = y + 8 + i * 23
        cv.line(x + 28, ty + 9, x + 88, ty + 9, 2, lighter(c, 0.4))
        worker(cv, x + 92, ty, 72, 18, c, thick=True)
        conn(cv, x + 104, ty + 9, c)


def draw_async(cv, x, y, w, h, c):
    cx, cy, r = x + w // 2, y + h // 2, 46
    cv.ring(cx, cy, r, 3, lighter(c, 0.35))
    for i in range(10):
        a = 2 * math.pi * i / 10
        conn(cv, cx + r * math.cos(a), cy + r * math.sin(a), c)
    worker(cv, cx - 33, cy - 12, 66, 24, c)
    cv.text(cx - Canvas.text_width("EPOLL") // 2, cy - 7, "EPOLL", c, scale=2)


DRAWINGS = {
    "single": draw_single, "thread": draw_thread, "process": draw_process,
    "thread-pool": draw_thread_pool, "process-pool": draw_process_pool, "async": draw_async,
}


def draw_sunset_jpeg(path):
    W, H = 480, 272
    horizon = 170
    sun_x, sun_y, sun_r = 330, 140, 34
    px = bytearray(W * H * 3)
    seed = 12345

    def noise():
        nonlocal seed
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        return (seed >> 16) / 32768.0 - 0.5

    def hill(x, base, amp, f1, f2, phase):
        return base - amp * (0.6 * math.sin(x * f1 + phase) + 0.4 * math.sin(x * f2 + 2 * phase))

    ridges = [  # (height at x, colour): far to near
        (lambda x: hill(x, 150, 22, 0.013, 0.031, 0.4), (0x8E, 0x5A, 0x9B)),
        (lambda x: hill(x, 165, 16, 0.019, 0.045, 2.1), (0x5B, 0x3A, 0x7A)),
        (lambda x: hill(x, 178, 10, 0.027, 0.06, 4.0), (0x2E, 0x22, 0x4F)),
    ]
    for y in range(H):
        for x in range(W):
            t = y / horizon
            if y < horizon:  # sky: deep blue -> magenta -> orange at the horizon
                if t < 0.55:
                    k = t / 0.55
                    r, g, b = 30 + k * 170, 40 + k * 40, 110 + k * 20
                else:
                    k = (t - 0.55) / 0.45
                    r, g, b = 200 + k * 55, 80 + k * 100, 130 - k * 60
            else:  # sea: darker reflection of the sky
                k = (y - horizon) / (H - horizon)
                r, g, b = 150 - k * 110, 70 - k * 40, 110 - k * 40
                wave = math.sin(y * 0.9 + math.sin(x * 0.05 + y * 0.3) * 3)
                r, g, b = r + 6 * wave, g + 4 * wave, b + 6 * wave
                half_width = 30 + 20 * k + 6 * math.sin(y * 1.7)
                near_sun = max(0.0, 1 - abs(x - sun_x) / half_width)
                glint = max(0.0, wave) ** 2 * near_sun ** 0.7 * (1 - 0.5 * k)
                r, g, b = r + 120 * glint, g + 95 * glint, b + 40 * glint
            d = math.hypot(x - sun_x, y - sun_y)
            if y < horizon:
                glow = max(0.0, 1 - d / 150) ** 2
                r, g, b = r + glow * 60, g + glow * 45, b + glow * 10
                if d < sun_r:
                    e = min(1.0, sun_r - d)
                    r, g, b = r + (255 - r) * e, g + (236 - g) * e, b + (170 - b) * e
            for height, colour in ridges:
                if y >= height(x) and y < horizon + 2:
                    r, g, b = colour
            n = noise() * 6
            i = 3 * (y * W + x)
            px[i] = max(0, min(255, int(r + n)))
            px[i + 1] = max(0, min(255, int(g + n)))
            px[i + 2] = max(0, min(255, int(b + n)))
    return write_jpeg(path, W, H, px, quality=85)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "www", "images")
    os.makedirs(outdir, exist_ok=True)
    for name, draw in (("models.png", draw_models_png), ("sunset.jpg", draw_sunset_jpeg)):
        path = os.path.join(outdir, name)
        size = draw(path)
        print(f"{os.path.normpath(path)}: {size} bytes")


if __name__ == "__main__":
    main()
