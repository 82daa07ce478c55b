"""gs_capture: real RGB-D capture, episode recording / replay and rig calibration."""
