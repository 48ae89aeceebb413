"""The LINE edge: signature checks, message limits and the SDK client with retries."""
