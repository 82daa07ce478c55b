"""Particle GNN dynamics (GS-Dynamics §3.3-3.4): model, data, training, evaluation, LBS,
predict service. Modules other than ``dynamics_node`` import no rclpy."""
