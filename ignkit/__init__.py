"""ignkit: Ignition configs and CoreOS live media, per host, offline."""
