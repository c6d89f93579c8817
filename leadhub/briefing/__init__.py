"""The leaders' briefing for one week or month: periods (periods.py), the sections as data
(sections.py, pure), reading them from either store (gather.py), and writing them as XLSX (xlsx.py)
or one printable HTML file (html.py)."""
