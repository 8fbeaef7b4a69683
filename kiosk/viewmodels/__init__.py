"""View-models: plain Python, no Kivy, unit-tested on their own."""
