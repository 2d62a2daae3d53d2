from .signed_distance_decoder import SignedDistanceDecoder

__all__ = ['SignedDistanceDecoder']
