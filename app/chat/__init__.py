"""Conversations: the chat pipeline, answers, visitors and transcripts."""
