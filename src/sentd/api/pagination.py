"""Page-number pagination, as the official SDKs iterate it: 1-indexed `page`, `page_size`, and
`data.pagination` with `has_more: false` on the last page (the SDKs stop there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def meta(self, total_count: int) -> dict[str, Any]:
        total_pages = (total_count + self.page_size - 1) // self.page_size
        return {
            "page": self.page,
            "page_size": self.page_size,
            "total_count": total_count,
            "total_pages": total_pages,
            "has_more": self.page < total_pages,
            "cursors": None,
        }


def whole_list(count: int) -> dict[str, Any]:
    """The pagination of a list returned whole, on one page."""
    return Page(1, max(1, count)).meta(count)


def page_params(
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
) -> Page:
    return Page(page or 1, page_size or DEFAULT_PAGE_SIZE)


PageParams = Annotated[Page, Depends(page_params)]
