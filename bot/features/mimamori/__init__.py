"""見守り: weekly check-ins for people living alone, escalating to their named 見守り person
(a 班長, 民生委員 or neighbour who accepted the role), then to the association's officers."""
