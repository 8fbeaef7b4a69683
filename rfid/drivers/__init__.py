"""Reader drivers, chosen by name through bronco.registry."""
