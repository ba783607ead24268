"""The lab worklist /lab and the shared views of orders and results."""
