"""The council report: one printable PDF and one workbook per city, ward or district and
period, gathering every feature's figures through `hooks.ask_council_sections`."""
