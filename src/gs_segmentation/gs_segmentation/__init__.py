"""gs_segmentation: object masks and the fused object cloud from multi-view RGB-D."""
