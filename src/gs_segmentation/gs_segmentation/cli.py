"""``gs-seg``: command-line tools of the segmentation package.

gs-seg eval data/seg_eval/rope/*.mcap --out out/seg_eval [--robot-masks oracle] [--track]
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "eval":
        from gs_segmentation.evaluate import main as eval_main

        return eval_main(argv[1:])
    print(f"gs-seg: unknown command '{argv[0]}' (commands: eval)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
