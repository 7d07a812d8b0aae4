"""Lesson maths, one module per lesson: worked examples, step sequences, checks."""
