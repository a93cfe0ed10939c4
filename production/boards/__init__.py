"""Shop-floor boards: one page per work center for a TV on the floor (what runs, what waits next, what is
late, the last reports), refreshing itself. Reads work orders and the current plan's times; writes nothing.
The pages (views, urls) are wired by config.urls under /boards/.
"""

from production.boards.selectors import Board, board_work_centers, work_center_board

__all__ = ["Board", "board_work_centers", "work_center_board"]
