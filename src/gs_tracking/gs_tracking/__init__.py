"""Dense 3D Gaussian tracking of deforming objects from multi-view RGB-D (ROS-free core)."""
