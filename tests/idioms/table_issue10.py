"""Layers, losses and optimizers of the breadth issue (10): each runs under both libraries like every other
idiom (a layer not built yet would be marked ``skip=`` with the reason)."""

from .harness import Table
from .sources import EX_DCGAN, EX_HOGWILD_MAIN, EX_MNIST, EX_REGRESSION, EX_WLM_MAIN, EX_WLM_MODEL, TU_DQN

t = Table("issue10")

t.add("smooth_l1_loss", EX_REGRESSION, """
    output = F.smooth_l1_loss(torch.tensor(A), torch.tensor(C))
""", "output")
t.add("smooth_l1_loss_module", TU_DQN, """
    criterion = nn.SmoothL1Loss()
    loss = criterion(torch.tensor(A[:, :1]), torch.tensor(C[:, 0]).unsqueeze(1))
""", "loss")
t.add("dropout2d_eval_identity", EX_HOGWILD_MAIN, """
    d = nn.Dropout2d()
    d.eval()
    y = d(torch.tensor(IMG))
""", "y")
t.add("adadelta_steps", EX_MNIST, """
    model = nn.Linear(5, 3)
    model.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.tensor(A)), torch.tensor(LABELS % 3)).backward()
        optimizer.step()
    w = model.weight
""", "w")
t.add("embedding_lookup", EX_WLM_MODEL, """
    encoder = nn.Embedding(10, 4)
    encoder.load_state_dict({'weight': torch.tensor(np.arange(40, dtype=np.float32).reshape(10, 4))})
    emb = encoder(torch.tensor(I[:2]))
""", "emb")
t.add("lstm_shapes_and_hidden", EX_WLM_MODEL, """
    rnn = nn.LSTM(4, 6, 2, dropout=0.0)
    weight = next(rnn.parameters())
    hidden = (weight.new_zeros(2, 3, 6), weight.new_zeros(2, 3, 6))
    output, (h, c) = rnn(torch.tensor(X3[:, :, :4]).repeat(3, 1, 1)[:5], hidden)
    shapes = [output.shape, h.shape, c.shape]
    names = [n for n, _ in rnn.named_parameters()][:4]
""", "shapes names")
t.add("clip_grad_norm_", EX_WLM_MAIN, """
    model = nn.Linear(5, 3)
    model.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    F.cross_entropy(model(torch.tensor(A) * 10), torch.tensor(LABELS % 3)).backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    g = model.weight.grad
""", "total g")
t.add("conv_transpose_batchnorm_generator_block", EX_DCGAN, """
    block = nn.Sequential(nn.ConvTranspose2d(4, 2, 4, 1, 0, bias=False), nn.BatchNorm2d(2), nn.ReLU(True))
    shape = block(torch.zeros(3, 4, 1, 1)).shape
""", "shape")
t.add("one_hot", TU_DQN, """
    y = F.one_hot(torch.tensor(LABELS), num_classes=5)
""", "y")
