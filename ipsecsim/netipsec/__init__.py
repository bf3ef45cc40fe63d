"""netipsec"""
