"""Membership: joining an association from a QR code, officers approving in LINE or on the
staff web, leaving, moving and deleting one's data, the join funnel and QR posters."""
