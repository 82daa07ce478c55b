"""Bringup of the gs_dynamics stack: stack descriptions, composed runner, monitor."""
