"""班長 (team leaders): named by an officer, they tick paper rounds and enter RSVPs in LINE."""
