"""Draws assets/animation.gif, the GIF the project serves: a spinning ring of squares.

Not part of the build (the GIF is committed); kept so the asset can be reproduced or changed.
Needs Pillow: python3 -m pip install pillow && python3 scripts/make-gif.py
"""
import math
from pathlib import Path

from PIL import Image, ImageDraw

SIZE, FRAMES, DOTS = 240, 24, 12
frames = []
for f in range(FRAMES):
    img = Image.new("P", (SIZE, SIZE), 0)
    palette = [17, 17, 17]  # background
    for d in range(DOTS):
        hue = (d / DOTS + f / FRAMES) % 1.0
        r, g, b = (int(255 * (0.5 + 0.5 * math.cos(2 * math.pi * (hue + o)))) for o in (0, 1 / 3, 2 / 3))
        palette += [r, g, b]
    img.putpalette(palette + [0, 0, 0] * (256 - DOTS - 1))
    draw = ImageDraw.Draw(img)
    for d in range(DOTS):
        angle = 2 * math.pi * (d / DOTS + f / (FRAMES * DOTS))
        cx, cy = SIZE / 2 + 80 * math.cos(angle), SIZE / 2 + 80 * math.sin(angle)
        half = 10 + 8 * (0.5 + 0.5 * math.sin(angle * 2 + 2 * math.pi * f / FRAMES))
        draw.rectangle([cx - half, cy - half, cx + half, cy + half], fill=d + 1)
    frames.append(img)

out = Path(__file__).resolve().parent.parent / "assets" / "animation.gif"
frames[0].save(out, save_all=True, append_images=frames[1:], duration=60, loop=0, optimize=False)
print(f"wrote {out} ({out.stat().st_size} bytes, {FRAMES} frames)")
