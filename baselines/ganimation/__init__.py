"""GANimation-style texture-only baseline (Pumarola et al., ECCV 2018)."""
