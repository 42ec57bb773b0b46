"""A syntax error in cnn.py must cost the model's tests only."""
ATTACKS = ("ThreeLayerConvNet",)


class ThreeLayerConvNet(object):
    def __init__(self, input_dim=(3, 32, 32)
        self.params = {}
