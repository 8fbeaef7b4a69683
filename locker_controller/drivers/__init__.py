"""Lock-board drivers, chosen by name through bronco.registry."""
