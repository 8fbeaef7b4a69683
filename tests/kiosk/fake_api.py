"""A stand-in for the station API in view-model tests: scripted answers, recorded calls."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError


class FakeApi:
    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple, dict]] = []
        self.session_token = ""
        self.staff_token = ""

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            answer = self.answers.get(name)
            if isinstance(answer, ApiError):
                raise answer
            return answer(*args, **kwargs) if callable(answer) else answer
        return call

    def names(self) -> list[str]:
        return [name for name, _a, _k in self.calls]
