"""Tovholder: the joint, binding pathway and action plan for children in mental distress."""
