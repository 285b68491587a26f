"""The errors the emulated 1C server answers with (codes are strings, as in 1C)."""

from __future__ import annotations


class ODataError(Exception):
    """An error the server answers with: HTTP status, 1C code and Russian message.

    ``platform`` marks a platform failure (500): it is rendered as the JSON
    ``exception/inner/descr`` chain instead of the ``odata.error`` body.
    """

    def __init__(self, status: int, code: str, message: str, *, platform: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.platform = platform


def parse_error(message: str) -> ODataError:
    """Code 14: the query options could not be parsed (400)."""
    return ODataError(400, "14", f"Ошибка разбора параметров запроса: {message}")


def unknown_property(option: str, name: str) -> ODataError:
    """Code 14 naming the option and the property the set does not have (1C echoes it)."""
    return ODataError(
        400, "14", f'Ошибка разбора параметра запроса {option}: не найдено свойство "{name}"'
    )


def not_found_segment(segment: str) -> ODataError:
    """Code 6: a path segment (an unpublished or misspelled set) was not found."""
    return ODataError(404, "6", f"Сегмент пути '{segment}' не найден")


def not_implemented(what: str) -> ODataError:
    """Code 21: the feature is not implemented by the platform."""
    return ODataError(400, "21", f"Не реализовано: {what}")


def access_denied() -> ODataError:
    """Code 20: a row the user may not read is in the result (no ``allowedOnly``)."""
    return ODataError(403, "20", "Недостаточно прав для доступа к данным")


def entity_not_found() -> ODataError:
    """Code 9: the addressed entity does not exist."""
    return ODataError(404, "9", "Экземпляр сущности не найден")
