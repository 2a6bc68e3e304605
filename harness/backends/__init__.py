"""Model backends behind one small async interface: `Backend.complete(ModelRequest)`."""
