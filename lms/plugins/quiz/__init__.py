"""Quizzes: question types as plugins, attempts graded on the server."""
