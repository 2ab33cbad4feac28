package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the module's messages for amino JSON signing (Ledger).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "avschain/x/avs/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgStoreComponent{}, "avschain/x/avs/MsgStoreComponent")
	legacy.RegisterAminoMsg(cdc, &MsgCreateService{}, "avschain/x/avs/MsgCreateService")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateService{}, "avschain/x/avs/MsgUpdateService")
	legacy.RegisterAminoMsg(cdc, &MsgSetServiceStatus{}, "avschain/x/avs/MsgSetServiceStatus")
	legacy.RegisterAminoMsg(cdc, &MsgTransferService{}, "avschain/x/avs/MsgTransferService")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateAllowlist{}, "avschain/x/avs/MsgUpdateAllowlist")
	legacy.RegisterAminoMsg(cdc, &MsgRegisterOperator{}, "avschain/x/avs/MsgRegisterOperator")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateOperator{}, "avschain/x/avs/MsgUpdateOperator")
	legacy.RegisterAminoMsg(cdc, &MsgOptIn{}, "avschain/x/avs/MsgOptIn")
	legacy.RegisterAminoMsg(cdc, &MsgOptOut{}, "avschain/x/avs/MsgOptOut")
	legacy.RegisterAminoMsg(cdc, &MsgCreateTask{}, "avschain/x/avs/MsgCreateTask")
	legacy.RegisterAminoMsg(cdc, &MsgCreateTasks{}, "avschain/x/avs/MsgCreateTasks")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitResults{}, "avschain/x/avs/MsgSubmitResults")
	legacy.RegisterAminoMsg(cdc, &MsgCommit{}, "avschain/x/avs/MsgCommit")
	legacy.RegisterAminoMsg(cdc, &MsgUncommit{}, "avschain/x/avs/MsgUncommit")
	legacy.RegisterAminoMsg(cdc, &MsgWithdrawRewards{}, "avschain/x/avs/MsgWithdrawRewards")
	legacy.RegisterAminoMsg(cdc, &MsgFundService{}, "avschain/x/avs/MsgFundService")
	legacy.RegisterAminoMsg(cdc, &MsgUnjail{}, "avschain/x/avs/MsgUnjail")
	legacy.RegisterAminoMsg(cdc, &MsgRequestRemoteTask{}, "avschain/x/avs/MsgRequestRemoteTask")
	cdc.RegisterConcrete(&Params{}, "avschain/x/avs/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{},
		&MsgStoreComponent{},
		&MsgCreateService{},
		&MsgUpdateService{},
		&MsgSetServiceStatus{},
		&MsgTransferService{},
		&MsgUpdateAllowlist{},
		&MsgRegisterOperator{},
		&MsgUpdateOperator{},
		&MsgOptIn{},
		&MsgOptOut{},
		&MsgCreateTask{},
		&MsgCreateTasks{},
		&MsgSubmitResults{},
		&MsgCommit{},
		&MsgUncommit{},
		&MsgWithdrawRewards{},
		&MsgFundService{},
		&MsgUnjail{},
		&MsgRequestRemoteTask{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// ModuleCdcJSON decodes IBC acknowledgements (channeltypes.Acknowledgement is
// a proto message with a oneof, read as ibc-go's own apps do).
var ModuleCdcJSON = codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
