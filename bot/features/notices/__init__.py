"""Notices (digital 回覧板): compose, preview reach and cost, send or schedule once, stamps,
and paper rounds counted with LINE in the read coverage."""
