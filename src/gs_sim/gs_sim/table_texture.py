"""An image laid flat on the table (e.g. a ChArUco calibration board), for the scene.

The image (a PNG file) covers a ``size`` = (width, height) [m] rectangle centred at
``center`` (x, y) on the table: its columns run along world +x and its top row lies at
+y (the image appears upright to a viewer looking down with y pointing away), printed on a
0.2 mm sheet (surface at z = 0.0002 m) that does not collide with anything.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

SHEET_HALF_THICKNESS = 0.0001  # m


@dataclasses.dataclass(frozen=True)
class TableTexture:
    """file: PNG image; size: (width, height) [m]; center: (x, y) on the table [m]."""

    file: str
    size: tuple[float, float]
    center: tuple[float, float] = (0.0, 0.0)

    @property
    def surface_z(self) -> float:
        return 2 * SHEET_HALF_THICKNESS

    def validate(self) -> None:
        if not Path(self.file).is_file():
            raise ValueError(f"table texture image '{self.file}' does not exist")
        if not all(0.01 <= s <= 2.0 for s in self.size):
            raise ValueError(f"table texture size {self.size} m must be in [0.01, 2] per side")

    def mjcf_asset(self) -> str:
        return (
            f'<texture name="table_sheet" type="2d" file="{Path(self.file).resolve()}"/>'
            '<material name="table_sheet" texture="table_sheet" texrepeat="1 1" '
            'texuniform="false" specular="0" shininess="0" emission="0.25"/>'
        )

    def mjcf_geom(self) -> str:
        w, h = self.size
        return (
            f'<geom name="table_sheet" type="plane" pos="{self.center[0]:.6f} '
            f'{self.center[1]:.6f} {self.surface_z:.6f}" size="{w / 2:.6f} {h / 2:.6f} 0.01" '
            'material="table_sheet" contype="0" conaffinity="0"/>'
        )
