"""gs_viz: markers, Foxglove bridge and snapshots of the gs_dynamics stack."""
