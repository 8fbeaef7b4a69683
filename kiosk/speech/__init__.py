"""Speech output for the kiosk: espeak-ng into a WAV cache, played through Kivy's audio."""
